import type { Evaluation } from '@aws-sdk/client-config-service';
import type { IAMClient, UserDetail } from '@aws-sdk/client-iam';
import { exemptionOf } from '../cli/plan.js';
import { complianceStyle, paint, renderTable } from '../cli/table.js';
import { checkDesignInvariant, designAccount } from '../remediation/design/account-design.js';
import type { DesignPlan } from '../remediation/design/design-types.js';
import { type MigrationResult, migrateUserPolicies } from '../remediation/migrate.js';
import { readAccountSnapshot, readIamQuotas } from '../remediation/read-state.js';
import type { MigrationStep } from '../remediation/steps.js';
import { readUserDetails } from '../rule/aws/iam.js';
import { parseRuleParameters } from '../rule/parameters.js';
import type { RuleRunResult } from '../rule/run-rule.js';
import { changeNotificationEvent, type RuleIdentity, scheduledNotificationEvent } from './config-events.js';
import type { ConfigStandIn } from './config-stand-in.js';
import { EMULATOR_ACCOUNT_ID, EMULATOR_REGION, type Emulator } from './emulator.js';
import { DEMO_ACCOUNT, DEMO_RULE_PARAMETERS, type SeedAccount, seedAccount } from './seed-account.js';

/** The rule as the local run deploys it. */
export const DEMO_RULE: RuleIdentity = {
  accountId: EMULATOR_ACCOUNT_ID,
  region: EMULATOR_REGION,
  configRuleName: 'iam-user-no-direct-policies',
  ruleParameters: DEMO_RULE_PARAMETERS,
};
/** The invocation context Lambda would pass: the function runs in the evaluated account. */
const LAMBDA_CONTEXT = {
  invokedFunctionArn: `arn:aws:lambda:${EMULATOR_REGION}:${EMULATOR_ACCOUNT_ID}:function:iam-user-no-direct-policies-rule`,
};

/** Where the demo writes, and how. */
export interface DemoOutput {
  readonly write: (text: string) => void;
  readonly colour: boolean;
  /** Terminal width, to cut long annotations; unset when output is not a terminal. */
  readonly width?: number;
  /** Receives the rule handler's JSON log lines (it logs to stdout, as in Lambda). */
  readonly ruleLog: (line: string) => void;
}

/** The services the demo runs against. */
export interface DemoServices {
  readonly emulator: Emulator;
  readonly config: ConfigStandIn;
  readonly iam: IAMClient;
}

/** What the demo found: whether everything happened as the seed account's design says, and the summary. */
export interface DemoOutcome {
  readonly asDesigned: boolean;
  readonly problems: readonly string[];
  readonly summary: string;
}

type RuleHandler = (event: unknown, context: typeof LAMBDA_CONTEXT) => Promise<RuleRunResult>;

/**
 * The local run: seeds the account, runs the rule's real Lambda handler with Config-shaped change events and a
 * scheduled event, dry-runs and applies the remediation for every NON_COMPLIANT user, re-evaluates, and checks
 * every outcome against the design written down in the seed account.
 */
export async function runDemo(
  services: DemoServices,
  out: DemoOutput,
  account: SeedAccount = DEMO_ACCOUNT,
): Promise<DemoOutcome> {
  const started = Date.now();
  const heading = (text: string) => out.write(`\n${paint(text, 'bold', out.colour)}\n`);
  const table = (...args: Parameters<typeof renderTable>) => out.write(renderTable(...args));
  const problems: string[] = [];
  const shows = new Map(account.users.map((u) => [u.userName, u]));

  // 1. The account.
  await seedAccount(services.iam, account);
  let users = await readUsersByName(services.iam);
  heading(`1. A seeded account: ${users.length} users (moto at ${services.emulator.endpoint})`);
  table(
    [{ heading: 'USER' }, { heading: 'GROUPS' }, { heading: 'DIRECT POLICIES' }, { heading: 'SHOWS' }],
    users.map((u) => [
      u.UserName ?? '',
      String(u.GroupList?.length ?? 0),
      directPolicyLabel(u),
      shows.get(u.UserName ?? '')?.shows ?? '',
    ]),
    out.colour,
    out.width,
  );

  // 2. The rule: its real handler, with the events Config would send.
  const handler = await loadRuleHandler(services);
  const invoke = (event: unknown) => withStdoutTo(out.ruleLog, () => handler(event, LAMBDA_CONTEXT));
  const recorded = new Map<string, Evaluation>();
  for (const user of users) {
    const result = await invoke(
      changeNotificationEvent(user, DEMO_RULE, DEMO_RULE.configRuleName, new Date()),
    );
    for (const e of result.evaluations) recorded.set(e.ComplianceResourceId ?? '', e);
  }
  const nameOf = new Map(users.map((u) => [u.UserId ?? '', u.UserName ?? '']));
  const before = new Map(
    [...recorded.values()].map((e) => [nameOf.get(e.ComplianceResourceId ?? '') ?? '', e]),
  );
  heading(
    `2. The rule's Lambda handler, one ConfigurationItemChangeNotification per user (parameters ${JSON.stringify(DEMO_RULE.ruleParameters)})`,
  );
  table(
    [{ heading: 'USER' }, { heading: 'VERDICT', style: complianceStyle }, { heading: 'ANNOTATION' }],
    [...before].map(([name, e]) => [name, e.ComplianceType ?? '', e.Annotation ?? '']),
    out.colour,
    out.width,
  );
  const firstSweep = await invoke(
    scheduledNotificationEvent(DEMO_RULE, DEMO_RULE.configRuleName, new Date()),
  );
  out.write(
    `Scheduled run: ${firstSweep.usersEvaluated} users read in one pass, ${firstSweep.unchanged} unchanged, ${firstSweep.evaluations.length} reported (only changes are reported).\n`,
  );
  if (firstSweep.evaluations.length !== 0)
    problems.push('the first scheduled run reported results that had not changed');

  // The account as `plan` would read it, before the per-user remediation changes it: section 5 shows the
  // account-wide design of this same account, so the two approaches can be compared user for user.
  const [snapshot, quotas] = await Promise.all([
    readAccountSnapshot(services.iam),
    readIamQuotas(services.iam),
  ]);

  // 3. The remediation, for every NON_COMPLIANT user: dry run first, then applied.
  const nonCompliant = [...before].filter(([, e]) => e.ComplianceType === 'NON_COMPLIANT');
  const idOf = new Map(users.map((u) => [u.UserName ?? '', u.UserId ?? '']));
  const migrate = (name: string, dryRun: boolean) =>
    migrateUserPolicies(services.iam, { userId: idOf.get(name) ?? '', dryRun });
  const planned = new Map<string, MigrationResult>();
  for (const [name] of nonCompliant) planned.set(name, await migrate(name, true));
  heading(
    `3. The remediation for the ${nonCompliant.length} NON_COMPLIANT users, by user ID as Config passes it: dry run`,
  );
  table(
    [{ heading: 'USER' }, { heading: 'DRY RUN', style: outcomeStyle }, { heading: 'PLAN' }],
    [...planned].map(([name, r]) => [
      name,
      r.status,
      r.status === 'refused' ? reasonsOf(r) : summarizeSteps(r.plan),
    ]),
    out.colour,
    out.width,
  );
  const applied = new Map<string, MigrationResult | Error>();
  for (const [name] of nonCompliant) {
    try {
      applied.set(name, await migrate(name, false));
    } catch (error) {
      applied.set(name, error instanceof Error ? error : new Error(String(error)));
    }
  }
  heading('   ...applied (every change verified by reading it back before the user loses a direct policy)');
  // Each dry run planned against the untouched account; applied one after another, a later user may join
  // groups an earlier one just created (heidi, into frank's and bob's), so the two tables can differ.
  out.write(
    '   Applied one user after another, so a later user may join groups an earlier run created; the dry runs each saw the untouched account.\n',
  );
  table(
    [{ heading: 'USER' }, { heading: 'RESULT', style: outcomeStyle }, { heading: 'WHAT HAPPENED' }],
    [...applied].map(([name, r]) =>
      r instanceof Error
        ? [name, 'failed', r.message]
        : [name, r.status, r.status === 'refused' ? reasonsOf(r) : summarizeSteps(r.changes)],
    ),
    out.colour,
    out.width,
  );

  // 4. Re-evaluation: the scheduled run reads the account again and reports what changed.
  const secondSweep = await invoke(
    scheduledNotificationEvent(DEMO_RULE, DEMO_RULE.configRuleName, new Date()),
  );
  users = await readUsersByName(services.iam);
  const stored = new Map(services.config.results(DEMO_RULE.configRuleName).map((r) => [r.resourceId, r]));
  heading(
    `4. Re-evaluated by the scheduled run: ${secondSweep.evaluations.length} results changed and reported, ${secondSweep.unchanged} unchanged`,
  );
  const rows: string[][] = [];
  for (const user of users) {
    const name = user.UserName ?? '';
    const after = stored.get(user.UserId ?? '');
    const was = before.get(name)?.ComplianceType ?? '';
    const now = after?.complianceType ?? '';
    const remediation = applied.get(name);
    const note =
      remediation === undefined
        ? (after?.annotation ?? '')
        : remediation instanceof Error
          ? `failed: ${remediation.message}`
          : remediation.status === 'refused'
            ? `refused: ${reasonsOf(remediation)}`
            : `${remediation.status}: now in ${(user.GroupList ?? []).join(', ')}`;
    rows.push([name, was, now, note]);

    const expected = shows.get(name)?.expected;
    if (expected === undefined) continue;
    const status =
      remediation === undefined ? 'none' : remediation instanceof Error ? 'failed' : remediation.status;
    if (was !== expected.before) problems.push(`${name}: the rule said ${was}, expected ${expected.before}`);
    if (status !== expected.remediation) {
      problems.push(`${name}: the remediation ended ${status}, expected ${expected.remediation}`);
    }
    if (now !== expected.after)
      problems.push(`${name}: after remediation the rule says ${now}, expected ${expected.after}`);
  }
  table(
    [
      { heading: 'USER' },
      { heading: 'BEFORE', style: complianceStyle },
      { heading: 'AFTER', style: complianceStyle },
      { heading: 'WHY' },
    ],
    rows,
    out.colour,
    out.width,
  );

  const count = (status: string) =>
    [...applied.values()].filter((r) => !(r instanceof Error) && r.status === status).length;

  // 5. The account-wide design (`plan`) of the account as it was before step 3. It is pure and takes
  // milliseconds on twelve users, so it costs the local run nothing noticeable.
  const params = parseRuleParameters(DEMO_RULE.ruleParameters);
  const design = designAccount(snapshot, quotas, {
    exemptUser: (user) => exemptionOf(user, params),
    quotasSource: 'account',
    createdAt: new Date().toISOString(),
  });
  heading(
    `5. The account-wide alternative: \`iam-user-policies plan\` on the account as it was before step 3 (nothing applied)`,
  );
  writeDesign(design, out);
  const perUserGroups = [...applied.values()].reduce(
    (n, r) =>
      n + (r instanceof Error ? 0 : r.changes.filter((step) => step.action === 'create-group').length),
    0,
  );
  out.write(
    `Account-wide: ${design.users.length} users into ${design.summary.newGroups} new groups; the per-user remediation (step 3) made ${perUserGroups} new groups for ${count('migrated')} users.\n`,
  );
  for (const problem of checkDesignInvariant(snapshot, design))
    problems.push(`account-wide design: ${problem}`);

  const exempt = [...before.values()].filter((e) => e.Annotation?.startsWith('Exempt')).length;
  const left = rows.filter((r) => r[2] === 'NON_COMPLIANT').length;
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const summary = `${users.length} users: ${nonCompliant.length} NON_COMPLIANT found, ${count('migrated')} migrated, ${count('refused')} refused, ${exempt} exempt; ${left} NON_COMPLIANT left (${seconds} s)`;
  return { asDesigned: problems.length === 0, problems, summary };
}

/**
 * The design as a newcomer reads it: each group with its member count and policies, the before/after
 * counts, and who is left out with why. The full view is `plan` (table, html, terraform, cloudformation).
 */
function writeDesign(plan: DesignPlan, out: DemoOutput): void {
  const policyName = (key: string) => plan.policies[key]?.policyName ?? key;
  out.write(
    renderTable(
      [{ heading: 'GROUP' }, { heading: 'STATUS' }, { heading: 'MEMBERS' }, { heading: 'POLICIES' }],
      plan.groups.map((g) => [
        g.name,
        g.status,
        String(g.members.length),
        g.policies.map(policyName).join(', '),
      ]),
      out.colour,
      out.width,
    ),
  );
  const { before, after } = plan.summary;
  out.write(
    renderTable(
      [{ heading: '' }, { heading: 'BEFORE' }, { heading: 'AFTER' }],
      [
        ['groups', String(before.groups), String(after.groups)],
        ['memberships', String(before.memberships), String(after.memberships)],
        ['direct policies', String(before.directPolicies), String(after.directPolicies)],
      ],
      out.colour,
    ),
  );
  for (const s of plan.skipped) out.write(`Skipped ${s.userName}: ${s.reason}\n`);
}

/**
 * Imports the rule's Lambda handler after pointing the SDK's standard endpoint variables at the emulator (IAM)
 * and the Config stand-in: the handler creates its clients when it is imported, exactly as in Lambda.
 */
async function loadRuleHandler(services: DemoServices): Promise<RuleHandler> {
  Object.assign(process.env, services.emulator.env, {
    AWS_ENDPOINT_URL: services.emulator.endpoint,
    AWS_ENDPOINT_URL_CONFIG_SERVICE: services.config.endpoint,
  });
  delete process.env.MEMBER_ROLE_NAME;
  const module = await import('../rule/handler.js');
  return module.handler;
}

/** Sends what `fn` writes to stdout (the handler's JSON log lines) to `sink` instead. */
async function withStdoutTo<T>(sink: (line: string) => void, fn: () => Promise<T>): Promise<T> {
  const original = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    sink(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  }) as typeof process.stdout.write;
  try {
    return await fn();
  } finally {
    process.stdout.write = original;
  }
}

/** Every user with its policies and documents (what Config's items carry), in name order for the tables. */
async function readUsersByName(iam: IAMClient): Promise<UserDetail[]> {
  const users = await readUserDetails(iam);
  return users.sort((a, b) => (a.UserName ?? '').localeCompare(b.UserName ?? '', 'en'));
}

function directPolicyLabel(u: UserDetail): string {
  const managed = u.AttachedManagedPolicies?.length ?? 0;
  const inline = u.UserPolicyList?.length ?? 0;
  const parts = [managed > 0 ? `${managed} managed` : '', inline > 0 ? `${inline} inline` : ''].filter(
    Boolean,
  );
  return parts.length > 0 ? parts.join(' + ') : '-';
}

/** "2 inline -> managed; join policy-set-… (new), developers; remove 3 direct (1 redundant)". */
export function summarizeSteps(steps: readonly MigrationStep[]): string {
  const created = new Set(steps.flatMap((s) => (s.action === 'create-group' ? [s.groupName] : [])));
  const converted = steps.filter((s) => s.action === 'create-policy').length;
  const joins = steps.flatMap((s) =>
    s.action === 'add-user-to-group' ? [`${s.groupName}${created.has(s.groupName) ? ' (new)' : ''}`] : [],
  );
  const removals = steps.filter(
    (s) => s.action === 'detach-user-policy' || s.action === 'delete-user-policy',
  );
  const redundant = removals.filter((s) => 'redundant' in s && s.redundant).length;
  const parts = [
    converted > 0 ? `${converted} inline -> managed` : '',
    joins.length > 0 ? `join ${joins.join(', ')}` : '',
    removals.length > 0
      ? `remove ${removals.length} direct${redundant > 0 ? ` (${redundant} redundant)` : ''}`
      : '',
  ].filter(Boolean);
  return parts.length > 0 ? parts.join('; ') : 'nothing to change';
}

function reasonsOf(r: MigrationResult): string {
  return (r.reasons ?? []).join(' ');
}

function outcomeStyle(cell: string) {
  if (cell === 'migrated' || cell === 'planned') return 'green' as const;
  if (cell === 'refused' || cell === 'failed') return 'red' as const;
  return undefined;
}
