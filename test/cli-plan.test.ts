import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientsFor, type Emulator, startEmulator } from '../local/emulator.js';
import { DEMO_RULE_PARAMETERS, seedAccount } from '../local/seed-account.js';
import { checkDesignInvariant } from '../remediation/design/account-design.js';
import { parseAuthorizationDetails } from '../remediation/design/authorization-details-file.js';
import type { DesignPlan } from '../remediation/design/design-types.js';
import { readAccountSnapshot } from '../remediation/read-state.js';
import { EMULATOR_CLI_ENV, runCli } from './support/cli.js';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'design', 'authorization-details.json');
const fixtureText = readFileSync(FIXTURE, 'utf8');
const scratch = mkdtempSync(join(tmpdir(), 'cli-plan-'));
const file = (name: string, text?: string) => {
  const path = join(scratch, name);
  if (text !== undefined) writeFileSync(path, text);
  return path;
};

describe.concurrent('iam-user-policies plan --input (offline, the AWS CLI’s JSON)', () => {
  it('--format json prints the plan; nobody in the account gains or loses anything', async () => {
    const run = await runCli([
      'plan',
      '--input',
      FIXTURE,
      '--format',
      'json',
      '--exempt-path-prefixes',
      '/break-glass/',
    ]);
    expect(run.code).toBe(0);
    const plan = JSON.parse(run.stdout) as DesignPlan;
    expect(checkDesignInvariant(parseAuthorizationDetails(fixtureText, FIXTURE), plan)).toEqual([]);
    // Named after the team tag both carry (UserDetail.Tags, read through to the design).
    expect(plan.groups.find((g) => g.members.includes('bob'))).toMatchObject({
      name: expect.stringMatching(/^payments_/),
      members: ['bob', 'carol'],
    });
    expect(plan.rewrites).toEqual([
      {
        policy: expect.stringMatching(/^inline-/),
        replaces: [
          { userName: 'bob', policyName: 'bob-home' },
          { userName: 'carol', policyName: 'home' },
          { userName: 'dave', policyName: 'dave-home' },
        ],
      },
    ]);
    expect(plan.skipped.map((s) => s.userName)).toEqual([
      'breakglass-admin',
      'ses-smtp-user.20240311-091422',
    ]);
    expect(plan.quotas).toMatchObject({
      source: 'iam-defaults',
      attachedPoliciesPerGroup: 10,
      groupsPerUser: 10,
    });
    expect(run.stderr).toContain(
      "Quotas: IAM's defaults (10 policies per group, 10 groups per user, 6144 characters per policy, 300 groups, 1500 policies)",
    );
  });

  it('--out writes the plan file while stdout shows the table with before/after counts', async () => {
    const out = file('plan.json');
    const run = await runCli(['plan', '--input', FIXTURE, '--out', out]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^Group design for account 123456789012: 7 new groups, 0 existing groups joined\. Nothing changed\.\n/,
    );
    expect(run.stdout).toMatch(/^direct policies\s+21\s+1$/m);
    expect(run.stdout).toContain("Quotas: IAM's defaults");
    expect(run.stdout).toMatch(
      /^Skipped ses-smtp-user\.20240311-091422: exempt: Amazon SES SMTP credential user/m,
    );
    const plan = JSON.parse(readFileSync(out, 'utf8')) as DesignPlan;
    expect(plan.version).toBe(1);
    expect(run.stdout).toContain(plan.groups[0]?.name);
    expect(run.stderr).toContain(`Plan written to ${out}`);
  });

  it('the same input gives the same plan, names included (stable across re-plans)', async () => {
    const [a, b] = await Promise.all([
      runCli(['plan', '--input', FIXTURE, '--format', 'json']),
      runCli(['plan', '--input', FIXTURE, '--format', 'json']),
    ]);
    const withoutClock = (text: string) => ({ ...JSON.parse(text), createdAt: undefined });
    expect(withoutClock(a.stdout)).toEqual(withoutClock(b.stdout));
  });

  it('--users and --joinable-groups narrow the design', async () => {
    const run = await runCli([
      'plan',
      '--input',
      FIXTURE,
      '--format',
      'json',
      '--users',
      'grace,erin',
      '--joinable-groups',
      'auditors',
    ]);
    expect(run.code).toBe(0);
    const plan = JSON.parse(run.stdout) as DesignPlan;
    expect(plan.users.map((u) => u.userName)).toEqual(['erin', 'grace']);
  });

  it('accepts the SDK’s URL-encoded documents as well as the CLI’s decoded objects', () => {
    const raw = JSON.parse(fixtureText);
    for (const u of raw.UserDetailList) {
      for (const p of u.UserPolicyList)
        p.PolicyDocument = encodeURIComponent(JSON.stringify(p.PolicyDocument));
    }
    for (const p of raw.Policies) {
      for (const v of p.PolicyVersionList) v.Document = encodeURIComponent(JSON.stringify(v.Document));
    }
    expect(parseAuthorizationDetails(JSON.stringify(raw), 'sdk.json')).toEqual(
      parseAuthorizationDetails(fixtureText, 'cli.json'),
    );
  });
});

describe.concurrent('iam-user-policies plan: bad input is one line, exit 2, nothing written', () => {
  const cases: { name: string; args: (out: string) => string[]; stderr: RegExp }[] = [
    {
      name: 'malformed --input JSON',
      args: (out) => ['plan', '--input', file('broken.json', '{"UserDetailList": ['), '--out', out],
      stderr: /^error: .*broken\.json is not valid JSON/,
    },
    {
      name: 'an --input file that is not an authorization-details answer',
      args: (out) => ['plan', '--input', file('other.json', '{"Users": []}'), '--out', out],
      stderr:
        /^error: .*other\.json \(expected the output of aws iam get-account-authorization-details\) is malformed: UserDetailList/,
    },
    {
      name: 'an --input file that does not exist',
      args: (out) => ['plan', '--input', join(scratch, 'missing.json'), '--out', out],
      stderr: /^error: cannot read --input .*missing\.json: ENOENT/,
    },
    {
      name: 'an unknown user in --users',
      args: (out) => ['plan', '--input', FIXTURE, '--users', 'bob,mallory', '--out', out],
      stderr: /^error: there is no IAM user named mallory in .*authorization-details\.json\n$/,
    },
    {
      name: 'an unknown group in --joinable-groups',
      args: (out) => ['plan', '--input', FIXTURE, '--joinable-groups', 'nope', '--out', out],
      stderr: /^error: --joinable-groups: there is no IAM group named nope/,
    },
    {
      name: 'a bad --quotas value',
      args: (out) => ['plan', '--input', FIXTURE, '--quotas', 'lots', '--out', out],
      stderr: /--quotas.*'lots' is invalid\. Allowed choices are default, unlimited/,
    },
    {
      name: 'a bad rule parameter',
      args: (out) => ['plan', '--input', FIXTURE, '--exempt-path-prefixes', 'no-slash', '--out', out],
      stderr: /^error: invalid rule parameters: exemptPathPrefixes/,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const out = join(scratch, `not-written-${c.name.replace(/\W+/g, '-')}.json`);
      const run = await runCli(c.args(out));
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(c.stderr);
      expect(run.stdout).toBe('');
      expect(existsSync(out)).toBe(false);
    });
  }
});

describe('iam-user-policies plan against the emulator', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator();
    await seedAccount(clientsFor(emulator.endpoint).iam);
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  it('changes nothing, writes the plan it prints, and the plan keeps every user’s grants', async () => {
    const { iam } = clientsFor(emulator.endpoint);
    const before = await readAccountSnapshot(iam);
    const out = file('live-plan.json');
    const run = await runCli(
      [
        '--endpoint',
        emulator.endpoint,
        'plan',
        '--format',
        'json',
        '--out',
        out,
        '--rule-parameters',
        JSON.stringify(DEMO_RULE_PARAMETERS),
      ],
      EMULATOR_CLI_ENV,
    );
    // ivan is at the groups-per-user quota with a direct policy: no design fits him, so exit 1.
    expect(run.code).toBe(1);
    const plan = JSON.parse(run.stdout) as DesignPlan;
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(plan);
    expect(plan.quotas?.source).toBe('account');
    expect(plan.skipped).toContainEqual({
      userName: 'breakglass-admin',
      reason: 'exempt: user name listed in exemptUserNames',
    });
    expect(plan.skipped).toContainEqual({
      userName: 'ivan',
      reason: expect.stringContaining('GroupsPerUserQuota'),
    });
    expect(plan.users.map((u) => u.userName)).toEqual(
      expect.arrayContaining(['bob', 'dave', 'frank', 'grace']),
    );
    expect(checkDesignInvariant(before, plan)).toEqual([]);
    expect(await readAccountSnapshot(iam)).toEqual(before);
  });
});
