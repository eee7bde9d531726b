import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startConfigStandIn } from '../local/config-stand-in.js';
import { clientsFor, startEmulator } from '../local/emulator.js';
import { REPO_ROOT } from '../local/python-env.js';
import { measureApply } from './apply-design.js';
import { measureChangeEvents } from './change-events.js';
import { timeImport } from './cold-start.js';
import { MESSY_DESIGN_SIZES, measureMessyDesign } from './messy-design.js';
import { seedSharedResources, seedUsers } from './population.js';
import { measureRemediation } from './remediation.js';
import { type BenchResult, judgeTargets, renderReport } from './report.js';
import { measureRoleMining } from './role-mining.js';
import {
  buildMigrationBundle,
  buildRuleBundle,
  buildSdkFloorBundle,
  synthesizedRuleBundle,
  whereTheBytesGo,
} from './rule-bundle.js';
import { measureMemory, measureMigrationMemory, measureThrottling, renderScale } from './scale.js';
import { measureSweep } from './sweep.js';

const USAGE = `npm run bench [-- options]
  --only <parts>       comma-separated: sweep,change,bundle,remediation,role-mining,messy-design,apply,memory,throttling (default: all)
  --sizes <n,n>        account sizes for the sweep, ascending (default: 1000,5000)
  --events <n>         change notifications to time (default: 10000)
  --runs <n>           process starts per cold-start median (default: 21)
  --write-reference    also write bench/reference.json (the numbers docs/performance.md and the regression test quote)`;

const PARTS = [
  'sweep',
  'change',
  'bundle',
  'remediation',
  'role-mining',
  'messy-design',
  'apply',
  'memory',
  'throttling',
] as const;

function options() {
  const { values } = parseArgs({
    options: {
      only: { type: 'string', default: PARTS.join(',') },
      sizes: { type: 'string', default: '1000,5000' },
      events: { type: 'string', default: '10000' },
      runs: { type: 'string', default: '21' },
      'write-reference': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const only = new Set(values.only.split(',').map((s) => s.trim()));
  const unknown = [...only].filter((p) => !(PARTS as readonly string[]).includes(p));
  const sizes = values.sizes.split(',').map(Number);
  const events = Number(values.events);
  const runs = Number(values.runs);
  const problems = [
    ...(unknown.length > 0
      ? [`--only: unknown part ${unknown.join(', ')} (known: ${PARTS.join(', ')})`]
      : []),
    ...(sizes.some((s, i) => !Number.isInteger(s) || s < 1 || s > 5000 || (i > 0 && s <= (sizes[i - 1] ?? 0)))
      ? ['--sizes: ascending whole numbers from 1 to 5000 (IAM allows 5,000 users per account)']
      : []),
    ...(!Number.isInteger(events) || events < 100 ? ['--events: a whole number >= 100'] : []),
    ...(!Number.isInteger(runs) || runs < 3 ? ['--runs: a whole number >= 3'] : []),
  ];
  if (problems.length > 0) {
    console.error(`${problems.join('\n')}\n\n${USAGE}`);
    process.exit(2);
  }
  return { only, sizes, events, runs, writeReference: values['write-reference'] };
}

function machine(): BenchResult['machine'] {
  const requirements = readFileSync(join(REPO_ROOT, 'local', 'requirements.txt'), 'utf8');
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT }).toString().trim();
  } catch {
    // not a git checkout
  }
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown CPU',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.versions.node,
    platform: `${process.platform}-${process.arch}`,
    moto: `moto ${/^moto==(.+)$/m.exec(requirements)?.[1] ?? 'unknown'}`,
    commit,
    loadAverage1m: Math.round(loadavg()[0] ?? 0),
  };
}

const REFERENCE = join(REPO_ROOT, 'bench', 'reference.json');

/**
 * Writes bench/reference.json: the parts measured in this run replace those of the recorded reference, the
 * others are kept, so `--only bundle --write-reference` re-records the bundle without re-running the sweeps.
 */
function writeReference(result: BenchResult): void {
  let recorded: Partial<BenchResult> = {};
  try {
    recorded = JSON.parse(readFileSync(REFERENCE, 'utf8')) as Partial<BenchResult>;
  } catch {
    // no reference yet
  }
  const measured = Object.fromEntries(
    Object.entries(result).filter(
      ([key, value]) => !(Array.isArray(value) && value.length === 0) && key !== 'targets',
    ),
  );
  const merged = { seeding: [], sweeps: [], ...recorded, ...measured } as Omit<BenchResult, 'targets'>;
  writeFileSync(REFERENCE, `${JSON.stringify({ ...merged, targets: judgeTargets(merged) }, null, 2)}\n`);
}

const progress = (line: string) => process.stderr.write(`${line}\n`);

async function main(): Promise<void> {
  const opts = options();
  // Lambda runs Node 24, where the SDK has nothing to warn about; here it would only add noise.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const started = performance.now();
  const partial: Omit<BenchResult, 'targets'> & {
    seeding: { users: number; wallMs: number }[];
    sweeps: BenchResult['sweeps'][number][];
  } = {
    machine: machine(),
    startedAt: new Date().toISOString(),
    durationSeconds: 0,
    seeding: [],
    sweeps: [],
  };
  let result: Omit<BenchResult, 'targets'> = partial;

  if (opts.only.has('sweep') || opts.only.has('remediation') || opts.only.has('apply')) {
    const [emulator, standIn] = await Promise.all([startEmulator(), startConfigStandIn()]);
    try {
      if (opts.only.has('sweep')) {
        const iam = clientsFor(emulator.endpoint).iam;
        await seedSharedResources(iam);
        let seeded = 0;
        for (const size of opts.sizes) {
          progress(`Seeding the emulated account with ${size} users...`);
          const start = performance.now();
          await seedUsers(iam, seeded, size);
          partial.seeding.push({ users: size - seeded, wallMs: performance.now() - start });
          seeded = size;
          progress(`Sweeping ${size} users with the rule and with the per-user scan...`);
          partial.sweeps.push(await measureSweep(emulator.endpoint, standIn, size));
        }
      }
      if (opts.only.has('remediation')) {
        progress('Migrating users with the remediation...');
        result = {
          ...result,
          remediation: await measureRemediation(emulator.endpoint, () => emulator.reset()),
        };
      }
      if (opts.only.has('apply')) {
        progress('Migrating a generated 300-user account with plan + apply, then user by user...');
        result = { ...result, apply: await measureApply(emulator.endpoint, () => emulator.reset()) };
      }
    } finally {
      await Promise.all([emulator.stop(), standIn.stop()]);
    }
  }

  if (opts.only.has('change')) {
    progress(`Judging ${opts.events} change notifications...`);
    result = { ...result, changeEvents: await measureChangeEvents(opts.events) };
  }

  if (opts.only.has('bundle')) {
    progress('Synthesizing the CDK app and timing the rule bundle...');
    const synthesized = await synthesizedRuleBundle();
    const built = await buildRuleBundle();
    result = {
      ...result,
      bundle: {
        bytes: synthesized.bytes,
        source: 'the rule asset the CDK app synthesizes (cdk.out/asset.*/index.mjs)',
        esbuildBytes: built.bytes,
        sdkFloorBytes: (await buildSdkFloorBundle()).bytes,
        migrationBytes: (await buildMigrationBundle()).bytes,
        importTiming: timeImport(synthesized.path ?? '', opts.runs),
        parts: whereTheBytesGo(synthesized.metafile),
      },
    };
  }

  if (opts.only.has('role-mining')) {
    progress('Designing groups on the role-mining datasets...');
    result = { ...result, roleMining: measureRoleMining() };
  }

  if (opts.only.has('messy-design')) {
    const messyDesign = MESSY_DESIGN_SIZES.map((users) => {
      progress(`Designing groups for a generated ${users}-user account, against the baselines...`);
      return measureMessyDesign(users);
    });
    result = { ...result, messyDesign };
  }

  if (opts.only.has('memory')) {
    progress('Sweeping 5,000 and 20,000 users with maximal inline policies in the bundled function...');
    result = { ...result, memory: await measureMemory() };
    progress(
      'Planning one user among 5,000 and 20,000 with maximal policies in the bundled migration function...',
    );
    result = { ...result, migrationMemory: await measureMigrationMemory() };
  }

  if (opts.only.has('throttling')) {
    progress('First sweeps of 10,000 users through a proxy that throttles 30% of requests...');
    result = { ...result, throttling: await measureThrottling() };
  }

  result = { ...result, durationSeconds: Math.round((performance.now() - started) / 1000) };
  const final: BenchResult = { ...result, targets: judgeTargets(result) };
  const dir = join(REPO_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const json = `${JSON.stringify(final, null, 2)}\n`;
  writeFileSync(join(dir, 'latest.json'), json);
  if (opts.writeReference) writeReference(final);
  console.log(renderReport(final));
  if (final.memory !== undefined || final.throttling !== undefined || final.migrationMemory !== undefined) {
    console.log(`\n${renderScale(final.memory, final.throttling, final.migrationMemory)}`);
  }
  progress(
    `\nWrote bench/results/latest.json${opts.writeReference ? ' and bench/reference.json' : ''} (${final.durationSeconds} s).`,
  );
  const missed = final.targets.filter((t) => !t.met);
  if (missed.length > 0) progress(`Targets missed: ${missed.map((t) => t.name).join('; ')}`);
}

await main();
