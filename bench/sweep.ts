import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConfigStandIn } from '../local/config-stand-in.js';
import { clientsFor } from '../local/emulator.js';
import { REPO_ROOT } from '../local/python-env.js';
import { readAccountUsers } from '../rule/aws/iam.js';
import { silentLogger } from '../rule/log.js';
import { runConfigRule } from '../rule/run-rule.js';
import { type CallCounter, countCalls } from './call-counter.js';
import { type ComplianceByUserId, naivePerUserScan } from './naive-scan.js';
import { accountSnapshot, type PagedIamCalls, pagedIamCalls } from './paged-iam.js';

/** What one approach cost for one sweep of the account. */
export interface SweepCost {
  readonly iamCalls: number;
  readonly putEvaluationsCalls: number;
  /** GetComplianceDetailsByConfigRule calls (the rule reads what Config holds; the naive scan does not). */
  readonly configReadCalls: number;
  readonly wallMs: number;
  readonly callsByCommand: Readonly<Record<string, number>>;
}

export interface SweepMeasurement {
  readonly users: number;
  /** The rule's scheduled path, first sweep (nothing recorded yet: every user is reported). */
  readonly rule: SweepCost;
  /** The rule's second sweep of the unchanged account (only changes are reported). */
  readonly ruleRepeat: SweepCost;
  /** The naive per-user scan (bench/naive-scan.ts), one user after the other; every run costs the same. */
  readonly naive: SweepCost;
  /** The same scan with NAIVE_CONCURRENCY users at a time (possible on the emulator; IAM would throttle it). */
  readonly naiveConcurrent: SweepCost;
  /**
   * IAM calls of both when IAM pages as AWS does (moto ignores MaxItems and answers every list in one page,
   * so the emulator counts alone would flatter both).
   */
  readonly iamCallsWithAwsPaging: PagedIamCalls;
  readonly iamCallRatio: number;
  readonly wallTimeRatio: number;
  /** Users on which the rule and the naive scan disagree (must be 0). */
  readonly disagreements: readonly string[];
}

const PERIODIC_EVENT = JSON.parse(
  readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'config-events', 'periodic.json'), 'utf8'),
) as Record<string, unknown>;
/** Users the concurrent naive scan examines at once. */
export const NAIVE_CONCURRENCY = 8;
const NOTIFICATION_TIME = new Date('2016-07-13T21:50:00.373Z');

/** Clients aimed at the emulator (IAM) and the Config stand-in, with a call counter, warmed up. */
async function countedClients(emulatorEndpoint: string, standIn: ConfigStandIn) {
  const iam = clientsFor(emulatorEndpoint).iam;
  const config = clientsFor(standIn.endpoint).config;
  const counters = { iam: countCalls(iam), config: countCalls(config) };
  // The first call of a fresh client resolves credentials and endpoints: keep that out of the timing.
  await readAccountUsers(iam);
  counters.iam.reset();
  return { iam, config, counters };
}

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; wallMs: number }> {
  const start = performance.now();
  const value = await run();
  return { value, wallMs: performance.now() - start };
}

type Counters = { readonly iam: CallCounter; readonly config: CallCounter };

function costOf(counters: Counters, wallMs: number): SweepCost {
  const cost = {
    iamCalls: counters.iam.total(),
    putEvaluationsCalls: counters.config.count(/^PutEvaluations$/),
    configReadCalls: counters.config.count(/^GetComplianceDetailsByConfigRule$/),
    wallMs,
    callsByCommand: { ...counters.iam.byCommand, ...counters.config.byCommand },
  };
  counters.iam.reset();
  counters.config.reset();
  return cost;
}

/**
 * Sweeps the emulated account (which must hold exactly `users` users) with the rule's scheduled path
 * (`runConfigRule` with a real ScheduledNotification event, the code the Lambda handler runs) and with the
 * naive per-user scan, counting every AWS call, and checks that both reach the same verdict for every user.
 */
export async function measureSweep(
  emulatorEndpoint: string,
  standIn: ConfigStandIn,
  users: number,
): Promise<SweepMeasurement> {
  const ruleName = `bench-rule-${users}`;
  const naiveName = `bench-naive-${users}`;
  const { iam, config, counters } = await countedClients(emulatorEndpoint, standIn);
  const sweep = () =>
    runConfigRule(
      {
        ...PERIODIC_EVENT,
        ruleParameters: '{}',
        configRuleName: ruleName,
        resultToken: ruleName,
      },
      { clientsFor: () => ({ iam, config }), log: silentLogger },
    );

  const first = await timed(sweep);
  if (first.value.usersEvaluated !== users) {
    throw new Error(`the rule saw ${first.value.usersEvaluated} users, the account holds ${users}`);
  }
  const rule = costOf(counters, first.wallMs);
  const repeat = await timed(sweep);
  const ruleRepeat = costOf(counters, repeat.wallMs);

  const naiveClients = await countedClients(emulatorEndpoint, standIn);
  const naiveRun = await timed(() =>
    naivePerUserScan(naiveClients.iam, naiveClients.config, naiveName, NOTIFICATION_TIME),
  );
  const naive = costOf(naiveClients.counters, naiveRun.wallMs);
  const concurrentRun = await timed(() =>
    naivePerUserScan(naiveClients.iam, naiveClients.config, `${naiveName}-concurrent`, NOTIFICATION_TIME, {
      concurrency: NAIVE_CONCURRENCY,
    }),
  );
  const naiveConcurrent = costOf(naiveClients.counters, concurrentRun.wallMs);

  const ruleVerdicts: ComplianceByUserId = new Map(
    standIn.results(ruleName).map((r) => [r.resourceId, r.complianceType as 'COMPLIANT' | 'NON_COMPLIANT']),
  );
  return {
    users,
    rule,
    ruleRepeat,
    naive,
    naiveConcurrent,
    iamCallsWithAwsPaging: await pagedIamCalls(await accountSnapshot(iam)),
    iamCallRatio: naive.iamCalls / rule.iamCalls,
    wallTimeRatio: naive.wallMs / rule.wallMs,
    disagreements: [
      ...compareVerdicts(ruleVerdicts, naiveRun.value, users),
      ...compareVerdicts(ruleVerdicts, concurrentRun.value, users),
    ],
  };
}

/** User IDs on which two verdict maps differ, or that either one lacks; both must cover `users` users. */
export function compareVerdicts(a: ComplianceByUserId, b: ComplianceByUserId, users: number): string[] {
  const ids = new Set([...a.keys(), ...b.keys()]);
  const differing = [...ids].filter((id) => a.get(id) !== b.get(id));
  if (a.size !== users || b.size !== users) differing.push(`(sizes ${a.size} and ${b.size}, want ${users})`);
  return differing;
}
