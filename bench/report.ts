import { MIGRATION_FUNCTION_MEMORY_MB } from '../infra/remediation.js';
import { RULE_FUNCTION_MEMORY_MB } from '../infra/rule-function.js';
import { USERNAME_VARIABLE } from '../remediation/design/username-variable.js';
import type { ApplyMeasurement } from './apply-design.js';
import type { ChangeEventMeasurement } from './change-events.js';
import type { ImportTiming } from './cold-start.js';
import { MAX_GROUPS_PER_USER, type MessyDesignMeasurement } from './messy-design.js';
import type { RemediationMeasurement } from './remediation.js';
import { ROLE_MINING_TIME_LIMIT_MS, type RoleMiningRow } from './role-mining.js';
import { type BundleShare, RULE_BUNDLE_MAX_BYTES } from './rule-bundle.js';
import type { MemoryMeasurement, MigrationMemoryMeasurement, ThrottlingRow } from './scale.js';
import type { SweepCost, SweepMeasurement } from './sweep.js';

/** Everything one `npm run bench` measured: what bench/results/latest.json holds. */
export interface BenchResult {
  readonly machine: {
    readonly cpu: string;
    readonly cores: number;
    readonly memoryGiB: number;
    readonly node: string;
    readonly platform: string;
    readonly moto: string;
    readonly commit: string;
    /** The machine's 1-minute load average when the run started: timings from a busy machine mislead. */
    readonly loadAverage1m: number;
  };
  readonly startedAt: string;
  readonly durationSeconds: number;
  readonly seeding: readonly { readonly users: number; readonly wallMs: number }[];
  readonly sweeps: readonly SweepMeasurement[];
  readonly changeEvents?: ChangeEventMeasurement;
  readonly bundle?: {
    readonly bytes: number;
    /** Where the measured file came from: the CDK app's synthesized asset. */
    readonly source: string;
    /** The in-memory esbuild build the regression test uses: must equal `bytes`. */
    readonly esbuildBytes: number;
    /** The SDK alone: the two clients, assumed-role credentials and the rule's commands, same options, no project code. */
    readonly sdkFloorBytes: number;
    /** The migration function's bundle (remediation/handler.ts), same options. */
    readonly migrationBytes?: number;
    readonly importTiming: ImportTiming;
    readonly parts: readonly BundleShare[];
  };
  readonly remediation?: RemediationMeasurement;
  /** Peak RSS of the bundled rule function sweeping large accounts (bench/scale.ts). */
  readonly memory?: readonly MemoryMeasurement[];
  /** Peak RSS of the bundled migration function planning one user in large accounts (bench/scale.ts). */
  readonly migrationMemory?: readonly MigrationMemoryMeasurement[];
  /** First sweeps through a throttling proxy, default SDK retry against the project's (bench/scale.ts). */
  readonly throttling?: readonly ThrottlingRow[];
  readonly apply?: ApplyMeasurement;
  /** The group-design engine on the HP Labs role-mining datasets, quotas lifted. */
  readonly roleMining?: readonly RoleMiningRow[];
  /** The group design against the baselines and the per-user remediation on generated messy accounts. */
  readonly messyDesign?: readonly MessyDesignMeasurement[];
  readonly targets: readonly Target[];
}

/** One of issue 6's targets, and whether this run met it. */
export interface Target {
  readonly name: string;
  readonly target: string;
  readonly measured: string;
  readonly met: boolean;
}

const n = (x: number) => x.toLocaleString('en-US', { maximumFractionDigits: 0 });
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
const ratio = (x: number) => `${x >= 100 ? n(x) : x.toFixed(1)}x`;

/** The issue's targets, judged on this run's measurements. */
export function judgeTargets(result: Omit<BenchResult, 'targets'>): Target[] {
  const targets: Target[] = [];
  for (const s of result.sweeps) {
    const iamLimit = Math.ceil(s.users / 1000);
    const putLimit = Math.ceil(s.users / 100);
    targets.push({
      name: `sweep of ${n(s.users)} users: IAM calls`,
      target: `<= ceil(N/1000) = ${iamLimit}`,
      measured: `${s.rule.iamCalls} on the emulator, ${s.iamCallsWithAwsPaging.rule} with AWS paging`,
      met: s.rule.iamCalls <= iamLimit && s.iamCallsWithAwsPaging.rule <= iamLimit,
    });
    targets.push({
      name: `sweep of ${n(s.users)} users: PutEvaluations calls`,
      target: `<= ceil(N/100) = ${putLimit}`,
      measured: `${s.rule.putEvaluationsCalls} (first sweep), ${s.ruleRepeat.putEvaluationsCalls} (unchanged)`,
      met: s.rule.putEvaluationsCalls <= putLimit,
    });
    targets.push({
      name: `sweep of ${n(s.users)} users: same verdicts as the per-user scan`,
      target: '0 users differ',
      measured: `${s.disagreements.length} differ`,
      met: s.disagreements.length === 0,
    });
    if (s.users >= 5000) {
      targets.push({
        name: `sweep of ${n(s.users)} users: IAM calls vs per-user scan`,
        target: '>= 100x fewer',
        measured: `${ratio(s.iamCallRatio)} (emulator), ${ratio(s.iamCallsWithAwsPaging.naive / s.iamCallsWithAwsPaging.rule)} (AWS paging)`,
        met: s.iamCallRatio >= 100 && s.iamCallsWithAwsPaging.naive / s.iamCallsWithAwsPaging.rule >= 100,
      });
      targets.push({
        name: `sweep of ${n(s.users)} users: wall time vs per-user scan`,
        target: '>= 5x less',
        measured: `${ratio(s.wallTimeRatio)} (sequential scan), ${ratio(s.naiveConcurrent.wallMs / s.rule.wallMs)} (8 at a time)`,
        met: s.wallTimeRatio >= 5,
      });
    }
  }
  const c = result.changeEvents;
  if (c !== undefined) {
    targets.push({
      name: 'change notification: AWS calls per event',
      target: 'exactly 1',
      measured: `${c.minCallsPerEvent}..${c.maxCallsPerEvent} over ${n(c.events)} events`,
      met: c.minCallsPerEvent === 1 && c.maxCallsPerEvent === 1,
    });
  }
  const b = result.bundle;
  if (b !== undefined) {
    targets.push({
      name: 'rule bundle size',
      target: `<= 400 KB (${n(RULE_BUNDLE_MAX_BYTES)} bytes)`,
      measured: `${n(b.bytes)} bytes (${kib(b.bytes)})`,
      met: b.bytes <= RULE_BUNDLE_MAX_BYTES,
    });
    targets.push({
      name: 'rule bundle import over bare Node',
      target: '<= 100 ms',
      measured: `${b.importTiming.overBareNodeMs.toFixed(0)} ms (${b.importTiming.overBareNodeWithSourceMapsMs.toFixed(0)} ms with --enable-source-maps)`,
      met: b.importTiming.overBareNodeMs <= 100 && b.importTiming.overBareNodeWithSourceMapsMs <= 100,
    });
    targets.push({
      name: 'the regression test builds the same bundle the CDK app deploys',
      target: 'same bytes',
      measured: `${n(b.esbuildBytes)} vs ${n(b.bytes)} bytes`,
      met: b.esbuildBytes === b.bytes,
    });
  }
  for (const row of result.roleMining ?? []) {
    targets.push({
      name: `group design on ${row.dataset}: roles, exact`,
      target: `<= ${row.target} (1.05 x the minimum ${row.minimum}), 0 problems`,
      measured: `${row.found} roles, ${row.problems} problems`,
      met: row.found <= row.target && row.problems === 0,
    });
    targets.push({
      name: `group design on ${row.dataset}: time`,
      target: `<= ${seconds(ROLE_MINING_TIME_LIMIT_MS)}`,
      measured: seconds(row.ms),
      met: row.ms <= ROLE_MINING_TIME_LIMIT_MS,
    });
  }
  for (const m of result.messyDesign ?? []) targets.push(...messyDesignTargets(m));
  for (const m of result.memory ?? []) {
    targets.push({
      name: `sweep of ${n(m.users)} users with maximal inline policies: peak RSS`,
      target: `< half the rule function's ${RULE_FUNCTION_MEMORY_MB} MB`,
      measured: `${m.peakRssMiB} MiB`,
      met: m.peakRssMiB * 2 < RULE_FUNCTION_MEMORY_MB && m.usersEvaluated === m.users,
    });
  }
  for (const m of result.migrationMemory ?? []) {
    targets.push({
      name: `migration of one user among ${n(m.users)} with maximal inline policies: peak RSS`,
      target: `< half the migration function's ${MIGRATION_FUNCTION_MEMORY_MB} MB, and a planned migration`,
      measured: `${m.peakRssMiB} MiB, ${m.status} (${m.planSteps} steps)`,
      met: m.peakRssMiB * 2 < MIGRATION_FUNCTION_MEMORY_MB && m.status === 'planned',
    });
  }
  for (const t of result.throttling ?? []) {
    if (!t.settings.startsWith('project')) continue;
    targets.push({
      name: `first sweeps of ${n(t.users)} users at ${Math.round(t.throttledShare * 100)}% throttled`,
      target: 'every sweep completes, each within the 300 s function timeout',
      measured: `${t.completed} of ${t.sweeps}, slowest ${Math.max(0, ...t.wallSeconds)} s`,
      met: t.completed === t.sweeps && t.wallSeconds.every((w) => w < 300),
    });
  }
  return targets;
}

/** Issue 12's targets for the account-wide design on one generated account. */
function messyDesignTargets(m: MessyDesignMeasurement): Target[] {
  const [design, , perTeam] = m.shapes;
  if (design === undefined || perTeam === undefined) return [];
  const on = `group design on the ${n(m.users)}-user messy account`;
  const targets: Target[] = [];
  if (m.users === 300) {
    targets.push({
      name: `${on}: groups`,
      target: `fewer than team core + one group per policy (${n(perTeam.groups)})`,
      measured: `${n(design.groups)}`,
      met: design.groups < perTeam.groups,
    });
  }
  const unjustified = design.singleMemberGroups - m.justifiedSingleMemberGroups;
  targets.push(
    {
      name: `${on}: single-member groups`,
      target: `only where a grant belongs to that user alone (after ${USERNAME_VARIABLE} generalisation)`,
      measured: `${n(design.singleMemberGroups)}, of which ${n(m.justifiedSingleMemberGroups)} carry a grant of their member's alone (${n(m.soleHolders)} users hold one); ${n(unjustified)} other`,
      met: unjustified === 0,
    },
    {
      name: `${on}: groups per user`,
      target: `<= ${MAX_GROUPS_PER_USER}`,
      measured: `max ${design.groupsPerUserMax}, mean ${design.groupsPerUserMean.toFixed(2)}`,
      met: design.groupsPerUserMax <= MAX_GROUPS_PER_USER,
    },
    {
      name: `${on}: exact and within the per-group and per-user quotas`,
      target: '0 problems',
      measured: `${m.problems} problems`,
      met: m.problems === 0,
    },
  );
  return targets;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function sweepRow(users: number, approach: string, cost: SweepCost, pagedIam: number): string[] {
  return [
    n(users),
    approach,
    n(cost.iamCalls),
    n(pagedIam),
    n(cost.putEvaluationsCalls),
    n(cost.configReadCalls),
    seconds(cost.wallMs),
  ];
}

/** The result as Markdown: the tables docs/performance.md quotes. */
export function renderReport(result: BenchResult): string {
  const parts: string[] = [];
  const m = result.machine;
  parts.push(
    `Measured ${result.startedAt.slice(0, 10)} on ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, ${m.moto}, commit ${m.commit}, load average ${m.loadAverage1m} at the start.`,
  );
  if (result.sweeps.length > 0) {
    const rows: string[][] = [];
    for (const s of result.sweeps) {
      const paged = s.iamCallsWithAwsPaging;
      rows.push(sweepRow(s.users, 'rule, first sweep', s.rule, paged.rule));
      rows.push(sweepRow(s.users, 'rule, unchanged account', s.ruleRepeat, paged.rule));
      rows.push(sweepRow(s.users, 'per-user scan', s.naive, paged.naive));
      rows.push(sweepRow(s.users, 'per-user scan, 8 at a time', s.naiveConcurrent, paged.naive));
    }
    parts.push(
      '### Periodic sweep\n',
      table(
        [
          'Users',
          'Approach',
          'IAM calls (emulator)',
          'IAM calls (AWS paging)',
          'PutEvaluations',
          'Config reads',
          'Wall time',
        ],
        rows,
      ),
    );
    parts.push(
      '',
      table(
        [
          'Users',
          'IAM calls, scan / rule',
          'Wall time, scan / rule',
          '8-at-a-time scan / rule',
          'Verdicts differ',
        ],
        result.sweeps.map((s) => [
          n(s.users),
          `${ratio(s.iamCallRatio)} (AWS paging: ${ratio(s.iamCallsWithAwsPaging.naive / s.iamCallsWithAwsPaging.rule)})`,
          ratio(s.wallTimeRatio),
          ratio(s.naiveConcurrent.wallMs / s.rule.wallMs),
          String(s.disagreements.length),
        ]),
      ),
    );
  }
  const c = result.changeEvents;
  if (c !== undefined) {
    parts.push(
      '\n### Change notifications\n',
      table(
        [
          'Events',
          'Event size',
          'Per event, median',
          'p99',
          'Rule code only, median',
          'p99',
          'AWS calls per event',
        ],
        [
          [
            n(c.events),
            `${n(c.eventBytes.min)}..${n(c.eventBytes.max)} bytes`,
            `${c.medianMicros.toFixed(0)} µs`,
            `${c.p99Micros.toFixed(0)} µs`,
            `${c.decisionMedianMicros.toFixed(0)} µs`,
            `${c.decisionP99Micros.toFixed(0)} µs`,
            c.minCallsPerEvent === c.maxCallsPerEvent
              ? String(c.minCallsPerEvent)
              : `${c.minCallsPerEvent}..${c.maxCallsPerEvent}`,
          ],
        ],
      ),
    );
  }
  const b = result.bundle;
  if (b !== undefined) {
    const t = b.importTiming;
    parts.push(
      '\n### Cold start of the rule bundle\n',
      table(
        ['Bundle', 'Bare `node`', 'Import', 'Over bare node', 'With --enable-source-maps', 'Runs'],
        [
          [
            `${n(b.bytes)} bytes (${kib(b.bytes)})`,
            `${t.bareNodeMs.toFixed(0)} ms`,
            `${t.importMs.toFixed(0)} ms`,
            `${t.overBareNodeMs.toFixed(0)} ms`,
            `${t.overBareNodeWithSourceMapsMs.toFixed(0)} ms over bare`,
            `median of ${t.runs}`,
          ],
        ],
      ),
      '',
      table(
        ['Where the bytes go', 'Size'],
        b.parts.map((p) => [p.part, kib(p.bytes)]),
      ),
      '',
      `The SDK alone (the two clients, assumed-role credentials and the rule's commands, no project code): ${n(b.sdkFloorBytes)} bytes (${kib(b.sdkFloorBytes)}).`,
    );
  }
  const r = result.remediation;
  if (r !== undefined) {
    const perUser = (calls: number, users: number) =>
      users > 1 ? ` (${(calls / users).toFixed(1)} per user)` : '';
    parts.push(
      '\n### Remediation\n',
      table(
        ['Migration', 'IAM calls', 'Wall time', 'Groups used', 'Still NON_COMPLIANT'],
        [
          [
            '1 user, 10 managed + 5 inline policies',
            n(r.singleUser.iamCalls),
            seconds(r.singleUser.wallMs),
            String(r.singleUser.groupsUsed),
            String(r.singleUser.stillNonCompliant),
          ],
          [
            `${r.batch.users} users, ${r.batch.policySets} shared policy sets${r.batch.converged ? ' (converged)' : ' (DID NOT CONVERGE)'}`,
            `${n(r.batch.iamCalls)}${perUser(r.batch.iamCalls, r.batch.users)}`,
            `${seconds(r.batch.wallMs)}${r.batch.users > 1 ? ` (${(r.batch.wallMs / r.batch.users).toFixed(0)} ms per user)` : ''}`,
            String(r.batch.groupsUsed),
            String(r.batch.stillNonCompliant),
          ],
        ],
      ),
    );
  }
  const a = result.apply;
  if (a !== undefined) {
    const row = (name: string, c: ApplyMeasurement['design']) => [
      name,
      n(c.iamCalls),
      n(c.accountReads),
      seconds(c.wallMs),
      String(c.groups),
      String(c.singleMemberGroups),
    ];
    parts.push(
      `\n### Applying a design against per-user runs (${n(a.users)} generated users, ${n(a.migrated)} migrated)\n`,
      table(
        [
          'Approach',
          'IAM calls',
          'Whole-account reads',
          'Wall time',
          'Groups at the end',
          'Single-member groups',
        ],
        [
          row('plan + apply (4 users at a time)', a.design),
          row('per-user remediation, one after the other', a.perUser),
        ],
      ),
    );
  }
  if (result.roleMining !== undefined && result.roleMining.length > 0) {
    parts.push(
      '\n### Group design on role-mining datasets\n',
      table(
        [
          'Dataset',
          'Users',
          'Permissions',
          'Distinct sets',
          'Classes',
          'Basis rows',
          'Candidates',
          'Minimum (literature)',
          'Roles found',
          'Ratio',
          'Lower bound',
          'Time',
          'Exact',
        ],
        result.roleMining.map((r) => [
          r.dataset,
          n(r.users),
          n(r.permissions),
          n(r.distinctSets),
          n(r.classes),
          n(r.basisRows),
          n(r.candidates),
          n(r.minimum),
          n(r.found),
          r.ratio.toFixed(2),
          n(r.lowerBound),
          `${r.ms.toFixed(0)} ms`,
          r.problems === 0 ? 'yes' : `**no** (${r.problems} problems)`,
        ]),
      ),
    );
  }
  if (result.messyDesign !== undefined && result.messyDesign.length > 0) {
    parts.push(
      '\n### Group design on generated messy accounts\n',
      table(
        [
          'Users',
          'Approach',
          'Groups',
          'Single-member groups',
          'Groups per user, mean',
          'max',
          'Memberships added',
          'Users moved',
          'Users left',
          'Time',
        ],
        result.messyDesign.flatMap((m) =>
          m.shapes.map((s) => [
            n(m.users),
            s.approach,
            n(s.groups),
            n(s.singleMemberGroups),
            s.groupsPerUserMean.toFixed(2),
            String(s.groupsPerUserMax),
            n(s.memberships),
            n(s.usersChanged),
            n(s.usersLeft),
            seconds(s.ms),
          ]),
        ),
      ),
    );
    for (const m of result.messyDesign) {
      parts.push(
        '',
        `${n(m.users)} users (seed ${m.seed}): ${n(m.soleHolders)} users keep a grant no other user keeps after ${USERNAME_VARIABLE} generalisation (${n(m.rewrites)} rewrites); ${n(m.justifiedSingleMemberGroups)} of the design's single-member groups carry one. Design problems: ${m.problems}.${m.warnings.length > 0 ? ` Warnings: ${m.warnings.join('; ')}.` : ''}`,
      );
    }
  }
  if (result.targets.length > 0) {
    parts.push(
      '\n### Targets\n',
      table(
        ['Target', 'Goal', 'Measured', 'Met'],
        result.targets.map((t) => [t.name, t.target, t.measured, t.met ? 'yes' : '**no**']),
      ),
    );
  }
  return parts.join('\n');
}
