import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type IAMClient, ListPoliciesCommand } from '@aws-sdk/client-iam';
import { expect } from 'vitest';
import { EMULATOR_ACCOUNT_ID } from '../../local/emulator.js';
import { REPO_ROOT } from '../../local/python-env.js';
import { LEASE_PATH } from '../../remediation/lease.js';
import { MIGRATION_GROUP_PATH } from '../../remediation/naming.js';
import { EMULATOR_CLI_ENV } from './cli.js';
import { type MessyAccount, messyAccount, seededRandom } from './messy-account.js';
import {
  effectiveGrants,
  emptyAccount,
  type Inventory,
  readInventory,
  seedAccount,
} from './remediation-account.js';

/** Helpers of the overlapping-run tests: worker processes, and the account-wide invariant after them. */

const work = mkdtempSync(join(tmpdir(), 'migration-runs-'));

export interface RunOutcome {
  readonly userName: string;
  readonly status?: string;
  readonly error?: string;
  readonly name?: string;
}

/** Runs each list of user names in its own process (test/support/migration-worker.ts), all at once. */
export async function runInProcesses(
  endpoint: string,
  lists: readonly (readonly string[])[],
  concurrency: number,
  ruleParameters: Readonly<Record<string, string>> = {},
): Promise<RunOutcome[]> {
  const outcomes = await Promise.all(
    lists.map(
      (runs, i) =>
        new Promise<RunOutcome[]>((resolve, reject) => {
          const file = join(work, `job-${Date.now()}-${i}.json`);
          writeFileSync(file, JSON.stringify({ runs, concurrency, ruleParameters }));
          const child = spawn(
            process.execPath,
            ['--import', 'tsx', join(REPO_ROOT, 'test', 'support', 'migration-worker.ts'), endpoint, file],
            {
              cwd: REPO_ROOT,
              env: {
                ...process.env,
                ...EMULATOR_CLI_ENV,
                AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
              },
              stdio: ['ignore', 'pipe', 'pipe'],
            },
          );
          let out = '';
          let err = '';
          child.stdout.on('data', (c: Buffer) => {
            out += c.toString();
          });
          child.stderr.on('data', (c: Buffer) => {
            err += c.toString();
          });
          child.once('error', reject);
          child.once('close', (code) => {
            if (code !== 0) reject(new Error(`worker ${i} exited with ${code}: ${err}`));
            else
              resolve(
                out
                  .trim()
                  .split('\n')
                  .filter(Boolean)
                  .map((l) => JSON.parse(l) as RunOutcome),
              );
          });
        }),
    ),
  );
  return outcomes.flat();
}

/** The account-wide invariant after overlapping runs. */
export async function expectAccountSafe(
  iam: IAMClient,
  before: Inventory,
  grantsBefore: Record<string, string[]>,
  account?: MessyAccount,
): Promise<Inventory> {
  const after = await readInventory(iam);
  const grantsAfter = await effectiveGrants(iam, after);
  const changed = Object.keys(grantsBefore).filter(
    (u) => JSON.stringify(grantsBefore[u]) !== JSON.stringify(grantsAfter[u]),
  );
  expect(changed, 'users whose effective grants changed').toEqual([]);
  for (const name of account?.exempt ?? []) expect(after.users[name], name).toEqual(before.users[name]);
  // Groups outside the migration's path: same policies, and nobody joined them.
  for (const [name, g] of Object.entries(before.groups)) {
    if (g.path === MIGRATION_GROUP_PATH) continue;
    expect(after.groups[name], name).toEqual(g);
    const membersBefore = Object.keys(before.users).filter((u) => before.users[u]?.groups.includes(name));
    const membersAfter = Object.keys(after.users).filter((u) => after.users[u]?.groups.includes(name));
    expect(membersAfter, `members of ${name}`).toEqual(membersBefore);
  }
  // No debris: every migration group has a member, and no lease is left behind.
  for (const [name, g] of Object.entries(after.groups)) {
    if (g.path !== MIGRATION_GROUP_PATH) continue;
    expect(
      Object.values(after.users).some((u) => u.groups.includes(name)),
      `migration group ${name} has a member`,
    ).toBe(true);
  }
  const leases = await iam.send(new ListPoliciesCommand({ Scope: 'Local', PathPrefix: LEASE_PATH }));
  expect(leases.Policies ?? []).toEqual([]);
  return after;
}

/** Users with the same direct set end in the same groups: one set group per distinct set, not per run. */
export function expectSameSetsShareGroups(
  before: Inventory,
  after: Inventory,
  users: readonly string[],
): void {
  const bySet = new Map<string, Set<string>>();
  for (const u of users) {
    const b = before.users[u];
    if (b === undefined) continue;
    const key = JSON.stringify([b.managed, Object.values(b.inline).sort(), b.groups]);
    const groups = JSON.stringify(after.users[u]?.groups);
    bySet.set(key, (bySet.get(key) ?? new Set()).add(groups));
  }
  for (const [set, groups] of bySet) expect([...groups], `users with set ${set}`).toHaveLength(1);
}

export function shuffled<T>(list: readonly T[], seed: number): T[] {
  const random = seededRandom(seed);
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/**
 * One round of the overlap tests: a seeded messy account of 65 users (and 2 exempt ones), every user
 * migrated twice at once by runs in 4 processes (12 at a time each); then the whole account is checked.
 */
export async function overlapRound(iam: IAMClient, endpoint: string, round: number): Promise<void> {
  await emptyAccount(iam);
  const account = messyAccount(65, round * 7);
  await seedAccount(iam, account.seed, EMULATOR_ACCOUNT_ID);
  const before = await readInventory(iam);
  const grantsBefore = await effectiveGrants(iam, before);
  const everyone = [...account.migratable, ...account.exempt];
  const twice = shuffled([...everyone, ...everyone], round);
  const lists = [0, 1, 2, 3].map((p) => twice.filter((_, i) => i % 4 === p));

  const outcomes = await runInProcesses(endpoint, lists, 12, account.ruleParameters);

  expect(outcomes).toHaveLength(134);
  // Joined into one string so that every reporter (the JSON one too) shows the errors, not "[ Array(1) ]".
  expect(
    outcomes
      .filter((o) => o.error !== undefined)
      .map((o) => `${o.userName}: ${o.name}: ${o.error}`)
      .join('\n'),
    'runs that failed',
  ).toBe('');
  const byUser = new Map<string, string[]>();
  for (const o of outcomes) byUser.set(o.userName, [...(byUser.get(o.userName) ?? []), o.status as string]);
  // One run migrates; the other waits for it and finds nothing to do, or (on a loaded machine, when the
  // first waited for its policy set behind other users' runs) gives up waiting: in-progress, nothing changed.
  // On an overloaded machine both runs of a user may give up waiting; that user is left as it was, and is
  // run again below, as Config's remediation retry would. A few such users are slowness; many would be a
  // liveness defect (runs waiting on each other), so they are bounded.
  for (const name of account.migratable) {
    expect(byUser.get(name)?.sort(), name).toSatisfy(
      (s: string[]) =>
        s.length === 2 &&
        ((s[1] === 'migrated' && ['already-compliant', 'in-progress'].includes(s[0] as string)) ||
          (s[0] === 'in-progress' && s[1] === 'in-progress')),
    );
  }
  for (const name of account.exempt) expect(byUser.get(name), name).toEqual(['refused', 'refused']);
  const unfinished = account.migratable.filter((name) => !byUser.get(name)?.includes('migrated'));
  expect(
    unfinished.length,
    `users both of whose runs gave up waiting: ${unfinished.join(', ')}`,
  ).toBeLessThanOrEqual(Math.floor(account.migratable.length / 8));
  let after = await expectAccountSafe(iam, before, grantsBefore, account);
  if (unfinished.length > 0) {
    const retried = await runInProcesses(endpoint, [unfinished], 4, account.ruleParameters);
    expect(retried.map((o) => `${o.userName}: ${o.status ?? o.error}`).sort()).toEqual(
      unfinished.map((name) => `${name}: migrated`).sort(),
    );
    after = await expectAccountSafe(iam, before, grantsBefore, account);
  }
  for (const name of account.migratable) {
    expect(after.users[name], name).toMatchObject({ managed: [], inline: {} });
  }
  expectSameSetsShareGroups(before, after, account.migratable);
}
