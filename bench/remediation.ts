import {
  AttachUserPolicyCommand,
  CreatePolicyCommand,
  CreateUserCommand,
  type IAMClient,
  ListGroupsForUserCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { clientsFor, EMULATOR_ACCOUNT_ID } from '../local/emulator.js';
import { migrateUserPolicies } from '../remediation/migrate.js';
import { readAccountUsers } from '../rule/aws/iam.js';
import { parseRuleParameters } from '../rule/parameters.js';
import { evaluateUser } from '../rule/verdict.js';
import { countCalls } from './call-counter.js';

export interface RemediationCost {
  readonly users: number;
  readonly iamCalls: number;
  readonly callsByCommand: Readonly<Record<string, number>>;
  readonly wallMs: number;
  /** Distinct groups the users ended up in. */
  readonly groupsUsed: number;
  /** Users still NON_COMPLIANT by the rule's verdict after the migration (must be 0). */
  readonly stillNonCompliant: number;
}

export interface RemediationMeasurement {
  /** One user with 10 attached managed policies and 5 inline policies. */
  readonly singleUser: RemediationCost;
  /** 100 users sharing POLICY_SETS.length policy sets, migrated one after the other. */
  readonly batch: RemediationCost & {
    readonly policySets: number;
    /** Whether every user of a policy set ended in exactly the same groups as the others of that set. */
    readonly converged: boolean;
  };
}

const document = (action: string) =>
  JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: action, Resource: '*' }] });
const policyArn = (name: string) => `arn:aws:iam::${EMULATOR_ACCOUNT_ID}:policy/${name}`;

/** The policy sets the batch's users carry: managed policy names and inline policy actions. */
const POLICY_SETS = [
  { managed: ['bench-deploy', 'bench-logs'], inline: ['s3:GetObject'] },
  { managed: ['bench-billing'], inline: [] },
  { managed: ['bench-deploy', 'bench-logs', 'bench-billing'], inline: ['sqs:SendMessage', 'sns:Publish'] },
] as const;

async function createPolicies(iam: IAMClient, names: readonly string[]): Promise<void> {
  for (const name of names) {
    await iam.send(new CreatePolicyCommand({ PolicyName: name, PolicyDocument: document(`${name}:*`) }));
  }
}

async function giveUser(
  iam: IAMClient,
  userName: string,
  managed: readonly string[],
  inline: readonly string[],
) {
  await iam.send(new CreateUserCommand({ UserName: userName }));
  for (const name of managed) {
    await iam.send(new AttachUserPolicyCommand({ UserName: userName, PolicyArn: policyArn(name) }));
  }
  for (const [k, action] of inline.entries()) {
    await iam.send(
      new PutUserPolicyCommand({
        UserName: userName,
        PolicyName: `inline-${k}`,
        PolicyDocument: document(action),
      }),
    );
  }
}

async function groupsOf(iam: IAMClient, userName: string): Promise<string[]> {
  const answer = await iam.send(new ListGroupsForUserCommand({ UserName: userName }));
  return (answer.Groups ?? []).map((g) => g.GroupName ?? '').sort();
}

/** Migrates `userNames` one after the other with the remediation's entry point, counting its IAM calls. */
async function migrate(endpoint: string, userNames: readonly string[]) {
  const iam = clientsFor(endpoint).iam;
  const counter = countCalls(iam);
  const start = performance.now();
  for (const userName of userNames) {
    const result = await migrateUserPolicies(iam, { userName, dryRun: false });
    if (result.status !== 'migrated') {
      throw new Error(`migrating ${userName} ended ${result.status}: ${result.reasons?.join('; ') ?? ''}`);
    }
  }
  return {
    wallMs: performance.now() - start,
    iamCalls: counter.total(),
    callsByCommand: { ...counter.byCommand },
  };
}

/** How many users the rule still finds NON_COMPLIANT, by its own reader and verdict. */
async function nonCompliantAfter(iam: IAMClient): Promise<number> {
  const params = parseRuleParameters({});
  const users = await readAccountUsers(iam);
  return users.filter((u) => evaluateUser(u, params).compliance === 'NON_COMPLIANT').length;
}

/**
 * Measures the remediation (remediation/migrate.ts, the code the Automation runbook's function runs) on two
 * fresh emulated accounts: one user with 10 managed and 5 inline policies, and 100 users sharing three policy
 * sets, which must converge on the same groups per set. `freshAccount` must wipe the emulator.
 */
export async function measureRemediation(
  endpoint: string,
  freshAccount: () => Promise<void>,
): Promise<RemediationMeasurement> {
  const admin = clientsFor(endpoint).iam;

  await freshAccount();
  const tenManaged = Array.from({ length: 10 }, (_, i) => `bench-managed-${i}`);
  await createPolicies(admin, tenManaged);
  const fiveInline = ['s3:GetObject', 'sqs:SendMessage', 'sns:Publish', 'dynamodb:GetItem', 'kms:Decrypt'];
  await giveUser(admin, 'bench-heavy-user', tenManaged, fiveInline);
  const single = await migrate(endpoint, ['bench-heavy-user']);
  const singleUser: RemediationCost = {
    users: 1,
    ...single,
    groupsUsed: (await groupsOf(admin, 'bench-heavy-user')).length,
    stillNonCompliant: await nonCompliantAfter(admin),
  };

  await freshAccount();
  await createPolicies(admin, ['bench-deploy', 'bench-logs', 'bench-billing']);
  const members = Array.from({ length: 100 }, (_, i) => ({
    userName: `bench-batch-${String(i).padStart(3, '0')}`,
    set: i % POLICY_SETS.length,
  }));
  for (const m of members) {
    const set = POLICY_SETS[m.set] ?? POLICY_SETS[0];
    await giveUser(admin, m.userName, set.managed, set.inline);
  }
  const batchRun = await migrate(
    endpoint,
    members.map((m) => m.userName),
  );
  const groupsBySet = new Map<number, Set<string>>();
  const allGroups = new Set<string>();
  for (const m of members) {
    const groups = await groupsOf(admin, m.userName);
    for (const g of groups) allGroups.add(g);
    const seen = groupsBySet.get(m.set) ?? new Set<string>();
    seen.add(groups.join(','));
    groupsBySet.set(m.set, seen);
  }
  return {
    singleUser,
    batch: {
      users: members.length,
      ...batchRun,
      groupsUsed: allGroups.size,
      stillNonCompliant: await nonCompliantAfter(admin),
      policySets: POLICY_SETS.length,
      converged: [...groupsBySet.values()].every((variants) => variants.size === 1),
    },
  };
}
