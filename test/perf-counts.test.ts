import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { UserDetail } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureChangeEvents } from '../bench/change-events.js';
import { pagedIamCalls } from '../bench/paged-iam.js';
import { benchUserShape, seedSharedResources, seedUsers } from '../bench/population.js';
import type { BenchResult } from '../bench/report.js';
import { buildMigrationBundle, buildRuleBundle, RULE_BUNDLE_MAX_BYTES } from '../bench/rule-bundle.js';
import { measureSweep, type SweepMeasurement } from '../bench/sweep.js';
import { type ConfigStandIn, startConfigStandIn } from '../local/config-stand-in.js';
import { clientsFor, type Emulator, startEmulator } from '../local/emulator.js';
import { REPO_ROOT } from '../local/python-env.js';

// Counts only: the numbers docs/performance.md rests on, checked on every `npm test` so they
// cannot regress unnoticed. Times are measured by `npm run bench` and never asserted here.

const reference = JSON.parse(
  readFileSync(join(REPO_ROOT, 'bench', 'reference.json'), 'utf8'),
) as Partial<BenchResult>;
/** How far the rule bundle may drift from the recorded size before someone must look at it. */
const BUNDLE_MARGIN = 0.05;

describe('the deployable rule bundle', () => {
  let bytes: number;
  beforeAll(async () => {
    ({ bytes } = await buildRuleBundle());
  });

  it('stays under the 400 KB target, whatever the recorded reference says', () => {
    expect(bytes).toBeLessThanOrEqual(RULE_BUNDLE_MAX_BYTES);
  });

  it('stays within 5% of the bytes recorded in bench/reference.json', () => {
    const recorded = reference.bundle?.bytes;
    expect(recorded, 'bench/reference.json records the bundle size').toBeTypeOf('number');
    const drift = (bytes - (recorded ?? 0)) / (recorded ?? 1);
    expect(
      Math.abs(drift),
      `the rule bundle is ${bytes} bytes, ${(drift * 100).toFixed(1)}% off the recorded ${recorded}: find out ` +
        'why (npm run bench -- --only bundle shows where the bytes go); if intended, re-record it with ' +
        '`npm run bench -- --only bundle --write-reference` and update docs/performance.md',
    ).toBeLessThanOrEqual(BUNDLE_MARGIN);
  });
});

describe('the migration function bundle', () => {
  it('stays within 5% of the bytes recorded in bench/reference.json', async () => {
    const { bytes } = await buildMigrationBundle();
    const recorded = reference.bundle?.migrationBytes;
    expect(recorded, 'bench/reference.json records the migration bundle size').toBeTypeOf('number');
    const drift = (bytes - (recorded ?? 0)) / (recorded ?? 1);
    expect(
      Math.abs(drift),
      `the migration bundle is ${bytes} bytes, ${(drift * 100).toFixed(1)}% off the recorded ${recorded}; if intended, ` +
        're-record it with `npm run bench -- --only bundle --write-reference` and update docs/performance.md',
    ).toBeLessThanOrEqual(BUNDLE_MARGIN);
  });
});

describe('change notifications', () => {
  it('cost exactly one AWS call each (PutEvaluations), for items of every size and deletions', async () => {
    const measured = await measureChangeEvents(400, 20);
    expect(measured.minCallsPerEvent).toBe(1);
    expect(measured.maxCallsPerEvent).toBe(1);
    expect(measured.callsByCommand).toEqual({ PutEvaluations: 400 });
  });
});

describe('reading the account when IAM pages at 1,000 users', () => {
  const users = (count: number): UserDetail[] =>
    Array.from({ length: count }, (_, i) => ({
      UserName: `u${i}`,
      UserId: `AIDA${String(i).padStart(17, '0')}`,
      Path: '/',
      GroupList: [],
      AttachedManagedPolicies:
        i % 3 === 0 ? [{ PolicyName: 'p', PolicyArn: 'arn:aws:iam::aws:policy/p' }] : [],
      UserPolicyList: [],
    }));

  it('the rule makes ceil(users/1000) calls; the per-user scan makes 2 per user plus its listing', async () => {
    expect(await pagedIamCalls(users(2500))).toEqual({ rule: 3, naive: 3 + 2 * 2500 });
    expect(await pagedIamCalls(users(5000))).toEqual({ rule: 5, naive: 5 + 2 * 5000 });
  });
});

describe('a sweep of 300 emulated users, side by side with the per-user scan', () => {
  let emulator: Emulator;
  let standIn: ConfigStandIn;
  let measured: SweepMeasurement;

  beforeAll(async () => {
    [emulator, standIn] = await Promise.all([startEmulator(), startConfigStandIn()]);
    const iam = clientsFor(emulator.endpoint).iam;
    await seedSharedResources(iam);
    await seedUsers(iam, 0, 300);
    measured = await measureSweep(emulator.endpoint, standIn, 300);
  });
  afterAll(async () => {
    await Promise.all([emulator?.stop(), standIn?.stop()]);
  });

  it('the first sweep reads IAM once, the recorded results once, and reports in ceil(300/100) calls', () => {
    expect(measured.rule.callsByCommand).toEqual({
      GetAccountAuthorizationDetails: 1,
      GetComplianceDetailsByConfigRule: 1,
      PutEvaluations: 3,
    });
  });

  it('a sweep of the unchanged account reports nothing (one empty PutEvaluations answers the result token)', () => {
    expect(measured.ruleRepeat.callsByCommand).toEqual({
      GetAccountAuthorizationDetails: 1,
      GetComplianceDetailsByConfigRule: 3,
      PutEvaluations: 1,
    });
  });

  it('the per-user scan makes two IAM calls per user and reports everyone again', () => {
    expect(measured.naive.callsByCommand).toEqual({
      ListUsers: 1,
      ListAttachedUserPolicies: 300,
      ListUserPolicies: 300,
      PutEvaluations: 3,
    });
  });

  it('the rule and the independent per-user scan agree on every user, compliant or not', () => {
    expect(measured.disagreements).toEqual([]);
    const withDirectPolicies = Array.from({ length: 300 }, (_, i) => benchUserShape(i)).filter(
      (u) => u.awsManaged !== undefined || u.customerManaged !== undefined || u.inlinePolicy !== undefined,
    ).length;
    const nonCompliant = standIn
      .results('bench-rule-300')
      .filter((r) => r.complianceType === 'NON_COMPLIANT');
    expect(nonCompliant).toHaveLength(withDirectPolicies);
    expect(withDirectPolicies).toBeGreaterThan(50);
    expect(withDirectPolicies).toBeLessThan(250);
  });
});
