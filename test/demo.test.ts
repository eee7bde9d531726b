import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../local/python-env.js';
import { DEMO_ACCOUNT } from '../local/seed-account.js';

/** Runs the local run as `npm start` does (tsx local/demo.ts), output not a terminal. */
function startDemo(): {
  child: ChildProcess;
  output: Promise<{ code: number | null; stdout: string; stderr: string }>;
} {
  const child = spawn(
    process.execPath,
    [join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'local/demo.ts'],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, NO_COLOR: undefined, AWS_ENDPOINT_URL: undefined },
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
  const output = new Promise<{ code: number | null; stdout: string; stderr: string }>((done) =>
    child.once('close', (code) => done({ code, stdout, stderr })),
  );
  return { child, output };
}

/** The rows of the table that follows the heading starting with `heading`, split into cells. */
function tableAfter(stdout: string, heading: string): string[][] {
  const lines = stdout.split('\n');
  const start = lines.findIndex((l) => l.startsWith(heading));
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (line.trim() === '' || !/\S {2,}\S/.test(line)) break;
    rows.push(line.split(/ {2,}/));
  }
  return rows;
}

describe('npm start (the local run)', () => {
  it('runs the rule and the remediation against the emulator as designed, and exits 0', async () => {
    const { output } = startDemo();
    const run = await output;
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);

    const seeded = tableAfter(run.stdout, '1. A seeded account');
    expect(seeded.map((r) => r[0])).toEqual(DEMO_ACCOUNT.users.map((u) => u.userName).sort());

    const verdicts = new Map(tableAfter(run.stdout, "2. The rule's Lambda handler").map((r) => [r[0], r[1]]));
    for (const user of DEMO_ACCOUNT.users)
      expect(verdicts.get(user.userName), user.userName).toBe(user.expected.before);
    expect(run.stdout).toContain('Scheduled run: 12 users read in one pass, 12 unchanged, 0 reported');

    const dryRun = new Map(tableAfter(run.stdout, '3. The remediation').map((r) => [r[0], r]));
    expect(dryRun.get('ivan')?.[1]).toBe('refused');
    expect(dryRun.get('ivan')?.[2]).toContain('GroupsPerUserQuota');
    expect(dryRun.get('erin')?.[2]).toBe('remove 1 direct (1 redundant)');

    const applied = new Map(tableAfter(run.stdout, '   ...applied').map((r) => [r[0], r]));
    const frankGroup = /join (policy-set-\w+) \(new\)/.exec(applied.get('frank')?.[2] ?? '')?.[1];
    expect(frankGroup).toBeDefined();
    expect(applied.get('grace')?.[2]).toBe(`join ${frankGroup}; remove 2 direct`);

    const final = tableAfter(run.stdout, '4. Re-evaluated by the scheduled run');
    for (const user of DEMO_ACCOUNT.users) {
      const row = final.find((r) => r[0] === user.userName);
      expect(row?.slice(1, 3), user.userName).toEqual([user.expected.before, user.expected.after]);
    }
    // 5. The account-wide design of the same account, as `plan` makes it: frank and grace share one group.
    const design = tableAfter(run.stdout, '5. The account-wide alternative');
    const groups = design.filter((r) => r[1] === 'new' || r[1] === 'existing');
    expect(groups.find((r) => r[3] === 'AmazonSQSReadOnlyAccess, CloudWatchReadOnlyAccess')?.[2]).toBe('2');
    expect(groups).toHaveLength(6);
    expect(groups.every((r) => r[1] === 'new' && Number(r[2]) >= 1)).toBe(true);
    expect(design.map((r) => r.join(' '))).toEqual(
      expect.arrayContaining(['groups 10 16', 'memberships 12 19', 'direct policies 24 3']),
    );
    expect(run.stdout).toMatch(/^Skipped ivan: is in 10 groups, .*GroupsPerUserQuota/m);
    expect(run.stdout).toContain(
      'Account-wide: 7 users into 6 new groups; the per-user remediation (step 3) made 5 new groups for 7 users.',
    );
    expect(run.stdout).not.toContain('NOT AS DESIGNED');

    expect(run.stdout).toMatch(
      /\nOK 12 users: 8 NON_COMPLIANT found, 7 migrated, 1 refused, 2 exempt; 1 NON_COMPLIANT left \(\d+\.\d s\)\n$/,
    );
    expect(run.stdout).not.toContain('\u001b['); // no colour when stdout is not a terminal
    expect(run.stdout).not.toContain('"event":'); // the rule's JSON logs stay out of the tables
  });

  it('Ctrl-C stops the emulator and exits 130', async () => {
    const { child, output } = startDemo();
    const endpoint = await new Promise<string>((found) => {
      let seen = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        const match = /moto at (http:\/\/127\.0\.0\.1:\d+)/.exec(seen);
        if (match?.[1] !== undefined) found(match[1]);
      });
    });
    child.kill('SIGINT');
    const run = await output;
    expect(run.code).toBe(130);
    await expect(fetch(`${endpoint}/moto-api/`)).rejects.toThrow();
  });
});
