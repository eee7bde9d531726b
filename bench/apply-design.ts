import { clientsFor } from '../local/emulator.js';
import { designAccount } from '../remediation/design/account-design.js';
import { applyDesign } from '../remediation/design/apply-design.js';
import { migrateUserPolicies } from '../remediation/migrate.js';
import { MIGRATION_GROUP_PATH } from '../remediation/naming.js';
import { readAccountSnapshot, readIamQuotas } from '../remediation/read-state.js';
import { countCalls } from './call-counter.js';
import { generateMessyAccount, loadMessyAccount } from './messy-account.js';

/** One way of migrating a whole generated account, measured. */
export interface AccountMigrationCost {
  readonly iamCalls: number;
  /** Whole-account reads (GetAccountAuthorizationDetails pages). */
  readonly accountReads: number;
  readonly wallMs: number;
  /** Groups under /policy-migration/ at the end, and how many have a single member. */
  readonly groups: number;
  readonly singleMemberGroups: number;
}

export interface ApplyMeasurement {
  readonly users: number;
  /** Users the design (and the per-user runs) migrate. */
  readonly migrated: number;
  readonly design: AccountMigrationCost;
  readonly perUser: AccountMigrationCost;
}

/**
 * Migrates a generated messy account twice from the same start, on the emulator: once with `plan` +
 * `apply` (the account read once, 4 users at a time), once with the per-user remediation run for each of
 * the same users one after the other (what 1 Config remediation per non-compliant user does). Counts the
 * IAM calls and the whole-account reads, and the groups each ends with.
 */
export async function measureApply(
  endpoint: string,
  reset: () => Promise<void>,
  users = 300,
): Promise<ApplyMeasurement> {
  const account = generateMessyAccount({ seed: 7, users });
  const load = async () => {
    await reset();
    await loadMessyAccount(clientsFor(endpoint).iam, account, 8);
  };

  await load();
  const setup = clientsFor(endpoint).iam;
  const [snapshot, quotas] = await Promise.all([readAccountSnapshot(setup), readIamQuotas(setup)]);
  const plan = designAccount(snapshot, quotas, { createdAt: new Date(0).toISOString() });
  const designed = clientsFor(endpoint).iam;
  const designCounter = countCalls(designed);
  let start = performance.now();
  const report = await applyDesign(designed, plan, { apply: true, concurrency: 4 });
  const designWall = performance.now() - start;
  const migrated = report.users.filter((u) => u.status === 'migrated').length;
  const designGroups = await migrationGroups(endpoint);

  await load();
  const single = clientsFor(endpoint).iam;
  const perUserCounter = countCalls(single);
  start = performance.now();
  for (const change of plan.users) {
    await migrateUserPolicies(single, { userName: change.userName, dryRun: false });
  }
  const perUserWall = performance.now() - start;
  const perUserGroups = await migrationGroups(endpoint);

  return {
    users,
    migrated,
    design: {
      iamCalls: designCounter.total(),
      accountReads: designCounter.byCommand.GetAccountAuthorizationDetails ?? 0,
      wallMs: designWall,
      ...designGroups,
    },
    perUser: {
      iamCalls: perUserCounter.total(),
      accountReads: perUserCounter.byCommand.GetAccountAuthorizationDetails ?? 0,
      wallMs: perUserWall,
      ...perUserGroups,
    },
  };
}

async function migrationGroups(endpoint: string): Promise<{ groups: number; singleMemberGroups: number }> {
  const snapshot = await readAccountSnapshot(clientsFor(endpoint).iam);
  const owned = snapshot.groups.filter((g) => g.path === MIGRATION_GROUP_PATH);
  return { groups: owned.length, singleMemberGroups: owned.filter((g) => g.memberNames.length === 1).length };
}
